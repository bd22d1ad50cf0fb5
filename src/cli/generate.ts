/** Placeholder: the `generate` command is being built (see the issues). */
export const help = 'margin-engine generate: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine generate is not implemented yet');
}
