/** Placeholder: the `price` command is being built (see the issues). */
export const help = 'margin-engine price: not available yet';
export async function main(_argv: string[]): Promise<number> {
  throw new Error('margin-engine price is not implemented yet');
}
