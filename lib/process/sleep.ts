/** Wait `ms` milliseconds (the one sleep of lib/; polling loops use it). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
