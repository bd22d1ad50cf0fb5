/** Placeholder: the `scenarios` command is being built (see the issues). */
export const help = 'margin-engine scenarios: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine scenarios is not implemented yet');
}
