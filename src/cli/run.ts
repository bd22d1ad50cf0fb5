/** Placeholder: the `run` command is being built (see the issues). */
export const help = 'margin-engine run: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine run is not implemented yet');
}
