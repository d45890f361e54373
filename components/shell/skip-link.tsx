/**
 * The first thing Tab reaches on every panel page: hidden until focused, it jumps
 * past the header to the page's main content (`target` is the id of <main>, which
 * takes focus: tabIndex -1).
 */
export function SkipLink({ target }: { target: string }) {
  return (
    <a
      href={`#${target}`}
      data-testid="skip-link"
      className="sr-only rounded-md bg-indigo-600 text-sm font-medium text-white shadow-lg focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:px-3 focus:py-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-300"
    >
      Skip to content
    </a>
  );
}
