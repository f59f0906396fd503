/** Stops the emulators started by global-setup. */
export default async function globalTeardown(): Promise<void> {
  const emulators = (globalThis as Record<string, unknown>).__SWITCHYARD_EMULATORS__ as
    | { stop(): Promise<void> }[]
    | undefined;
  await Promise.all((emulators ?? []).map((e) => e.stop()));
}
