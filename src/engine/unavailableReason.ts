/**
 * Why a backend did not run, said briefly for a summary line: the full reason (the loader's message, with
 * library paths) is for --verbose and the report's runs table. Every run on a system whose C++ runtime is
 * older than Dawn's printed `…/libstdc++.so.6: version 'GLIBCXX_3.4.32' not found (required by …dawn.node)`.
 */
export function briefReason(why: string): string {
  const glibcxx = /GLIBCXX_([\d.]+)'? not found/.exec(why);
  if (glibcxx)
    return `unavailable on this system: its Dawn library needs a newer C++ runtime (libstdc++ with GLIBCXX_${glibcxx[1]})`;
  if (/cannot find module|ERR_MODULE_NOT_FOUND|not built|does not load/i.test(why)) {
    const head = why.split(/:\s/)[0]!;
    return `unavailable on this system (${head})`;
  }
  return why.length > 120 ? `${why.slice(0, 117)}…` : why;
}

/** `why` for a summary: brief unless `verbose`; a shortened reason says where the full one is. */
export function reasonFor(why: string, verbose: boolean): string {
  if (verbose) return why;
  const brief = briefReason(why);
  return brief === why ? why : `${brief} (--verbose: the full reason)`;
}
