/** Helpers shared by the emulator's tests. */

/** The error a promise rejects with (name, message, HTTP status); throws when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}) };
  }
  throw new Error('expected a rejection');
}
