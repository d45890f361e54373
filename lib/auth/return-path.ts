/**
 * Where sign-in sends a user back to: the page they asked for, when it is a path of this
 * panel. Pure. Anything else (another origin, a scheme, "//host" or "/\host" which
 * browsers read as another host, backslashes, control characters, the sign-in and
 * setup pages themselves, the API) gives null, and sign-in goes to the default page.
 */

export const DEFAULT_AFTER_SIGN_IN = "/services";
const MAX_LENGTH = 1024;
const BASE = "http://panel.invalid";

export function safeReturnPath(raw: string | null | undefined): string | null {
  if (!raw || raw.length > MAX_LENGTH) return null;
  if (!raw.startsWith("/") || raw.startsWith("//")) return null;
  // a backslash is a slash to browsers ("/\\evil.com"), and no path of this panel has one, nor a control character or a space
  for (const c of raw) {
    const code = c.charCodeAt(0);
    if (c === "\\" || code <= 0x20 || code === 0x7f) return null;
  }
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  const path = url.pathname;
  if (path.startsWith("//") || ["/login", "/setup"].includes(path) || path === "/api" || path.startsWith("/api/")) return null;
  url.searchParams.delete("_rsc"); // a React Server Components fetch, not a page
  return path + url.search + url.hash;
}

/** The sign-in page's address for a user who asked for `requested` (checked here, and again on the sign-in page). */
export function loginPathFor(requested: string | null | undefined): string {
  const back = safeReturnPath(requested);
  return back && back !== DEFAULT_AFTER_SIGN_IN ? `/login?next=${encodeURIComponent(back)}` : "/login";
}
