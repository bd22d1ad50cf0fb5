/** Placeholder: the `export` command is being built (see the issues). */
export const help = 'margin-engine export: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine export is not implemented yet');
}
