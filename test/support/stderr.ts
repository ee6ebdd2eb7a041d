/** Everything written to stderr while `run` runs (the logger writes there). */
export async function stderrOf(run: () => Promise<void>): Promise<string> {
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((text += String(chunk)), true)) as typeof write;
  try {
    await run();
  } finally {
    process.stderr.write = write;
  }
  return text;
}
