/**
 * Docker's multiplexed log format (containers without a TTY): frames of an 8-byte
 * header [stream, 0, 0, 0, size as uint32 big-endian] then `size` bytes. Stream 1 is
 * stdout, 2 stderr. Pure, so it is unit-tested.
 */
export type LogLine = { stream: "stdout" | "stderr"; text: string };

export function demuxDockerLog(buf: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  const pending: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  let off = 0;
  while (off + 8 <= buf.length) {
    const kind = buf[off];
    const size = buf.readUInt32BE(off + 4);
    const stream = kind === 2 ? "stderr" : "stdout";
    const chunk = buf.subarray(off + 8, Math.min(buf.length, off + 8 + size)).toString("utf8");
    off += 8 + size;
    const parts = (pending[stream] + chunk).split("\n");
    pending[stream] = parts.pop() ?? "";
    for (const text of parts) lines.push({ stream, text });
  }
  for (const stream of ["stdout", "stderr"] as const) if (pending[stream]) lines.push({ stream, text: pending[stream] });
  return lines;
}

/** One line per string; stderr lines marked the way the process runtime marks them. */
export function formatLogLines(lines: LogLine[]): string[] {
  return lines.map((l) => (l.stream === "stderr" ? `stderr: ${l.text}` : l.text));
}
