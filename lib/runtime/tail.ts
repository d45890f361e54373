import { promises as fs } from "node:fs";

const CHUNK = 64 * 1024;
/** Never read more than this from the end of a log, however few newlines it has. */
const MAX_BYTES = 4 * 1024 * 1024;

/** The last `count` lines of a text file, read from its end; [] when the file does not exist. */
export async function tailFileLines(file: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch {
    return [];
  }
  try {
    const size = (await handle.stat()).size;
    let pos = size;
    let text = "";
    while (pos > 0 && size - pos < MAX_BYTES) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await handle.read(buf, 0, len, pos);
      text = buf.toString("utf8") + text;
      // count + 1 newlines guarantee `count` whole lines after the first (possibly cut) one
      if (text.split("\n").length > count + 1) break;
    }
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    if (pos > 0) lines.shift(); // the first line was cut by the chunk boundary
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

/** Moves `file` to `file.1` (replacing an older one) once it is larger than `maxBytes`; nothing when it does not exist. */
export async function rotateLog(file: string, maxBytes: number): Promise<void> {
  try {
    if ((await fs.stat(file)).size > maxBytes) await fs.rename(file, `${file}.1`);
  } catch {
    /* no log yet */
  }
}
