"use client";

import { REPLICA_CUES, styleOfSlot } from "@/components/charts/replica-colors";

/** The fill of replica slot `slot` in stacked charts: its colour with its hatch (ChartPatterns defines it). */
export function replicaFill(slot: number): string {
  return `url(#sy-replica-${slot})`;
}

function Hatch({ kind }: { kind: (typeof REPLICA_CUES)[number]["hatch"] }) {
  switch (kind) {
    case "stripes":
      return <line x1={0} y1={0} x2={0} y2={6} stroke="#ffffff" strokeOpacity={0.6} strokeWidth={2} />;
    case "dots":
      return <circle cx={3} cy={3} r={1.1} fill="#ffffff" fillOpacity={0.75} />;
    case "cross":
      return <path d="M0 3H6M3 0V6" stroke="#ffffff" strokeOpacity={0.55} strokeWidth={1} />;
    default:
      return null;
  }
}

/**
 * SVG patterns every chart on the page refers to by id (one hidden svg, not one per
 * chart): a band per replica slot (its colour at 60 %, with the slot's hatch in white:
 * none, stripes, dots, a grid) and the error classes (4xx plain, 5xx stripes, connection
 * errors dots). The legends draw the same fills, so a band can be matched to its
 * replica by pattern as well as by colour.
 */
export function ChartPatterns({ slots }: { slots: readonly number[] }) {
  return (
    <svg width={0} height={0} aria-hidden className="absolute">
      <defs>
        {slots.map((slot) => {
          const st = styleOfSlot(slot);
          return (
            <pattern key={slot} id={`sy-replica-${slot}`} width={6} height={6} patternUnits="userSpaceOnUse" patternTransform={st.hatch === "stripes" ? "rotate(45)" : undefined}>
              <rect width={6} height={6} fill={st.color} fillOpacity={0.6} />
              <Hatch kind={st.hatch} />
            </pattern>
          );
        })}
        <pattern id="sy-errors-4xx" width={6} height={6} patternUnits="userSpaceOnUse">
          <rect width={6} height={6} fill="#d97706" fillOpacity={0.6} />
        </pattern>
        <pattern id="sy-errors-5xx" width={6} height={6} patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width={6} height={6} fill="#e11d48" fillOpacity={0.6} />
          <Hatch kind="stripes" />
        </pattern>
        <pattern id="sy-errors-conn" width={6} height={6} patternUnits="userSpaceOnUse">
          <rect width={6} height={6} fill="#7c3aed" fillOpacity={0.6} />
          <Hatch kind="dots" />
        </pattern>
      </defs>
    </svg>
  );
}
