/** Errors of the command-line tools name the flag a user typed, not the library's option. */

/**
 * Rewrites `The "killDuringRecovery" argument …` into
 * `The --kill-during-recovery option …` for the options `flagOf` maps; other
 * errors pass through unchanged.
 */
export function renameOption(err: unknown, flagOf: Record<string, string>): unknown {
  const e = err as Error & { code?: string };
  if (typeof e?.code !== 'string' || !e.code.startsWith('ERR_')) return err;
  e.message = e.message.replace(/The (?:value of )?"(\w+)"(?: argument)?/, (whole, name: string) =>
    flagOf[name] ? `The ${flagOf[name]} option` : whole);
  return e;
}
