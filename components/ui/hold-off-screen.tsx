"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * From this many replicas (or series) on, the service page's parts off screen hold still:
 * the charts (with 50 replicas a chart's tick is 50 series of 300 points, and the page
 * shows two or three charts at a time), the replica cards and the stats table. Below it
 * everything draws every tick (cheap with a few replicas).
 */
export const HOLD_OFF_SCREEN_FROM = 10;

/**
 * `value` while the element is on screen (or `hold` is off); while it is off screen (an
 * IntersectionObserver with `margin` around the viewport), the value it had when it left.
 * A memoised child given the held value does not render at all, so with many replicas the
 * parts of the service page nobody sees cost no work per tick (issue 18); scrolled to,
 * the newest value is drawn at once.
 */
export function useHeldOffScreen<T>(value: T, hold: boolean, margin = "200px 0px"): { ref: React.RefObject<HTMLDivElement | null>; shown: T; live: boolean } {
  const ref = useRef<HTMLDivElement | null>(null);
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    const el = ref.current;
    if (!hold || !el || typeof IntersectionObserver === "undefined") return;
    const io = new IntersectionObserver((entries) => setVisible(entries[entries.length - 1].isIntersecting), { rootMargin: margin });
    io.observe(el);
    return () => {
      io.disconnect();
      setVisible(true);
    };
  }, [hold, margin]);
  const live = visible || !hold;
  const [held, setHeld] = useState(value);
  if (live && held !== value) setHeld(value);
  return { ref, shown: live ? value : held, live };
}

/** A box that renders `children(value)` with the value useHeldOffScreen gives. */
export function HoldOffScreen<T>({ value, hold, className, children }: { value: T; hold: boolean; className?: string; children: (value: T) => ReactNode }) {
  const { ref, shown, live } = useHeldOffScreen(value, hold);
  return (
    <div ref={ref} className={className} data-held={live ? undefined : true}>
      {children(shown)}
    </div>
  );
}
