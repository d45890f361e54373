import bcrypt from "bcryptjs";

const COST = 11;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/** A hash to compare against when the user does not exist, so timing does not reveal user names. */
export const DUMMY_HASH = "$2b$11$CwTycUXWue0Thq9StjUM0uJ8.xGk1KmQ2Hj5b6pXz0n1sGQzZ3v7u";
