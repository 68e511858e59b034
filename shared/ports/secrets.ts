/** Secret values by id (Secrets Manager on AWS). Never logged, never echoed. */
export interface Secrets {
  /** The secret's current string value. */
  get(secretId: string): Promise<string>;
}

/** Secrets held in memory (the local runtime, tests). */
export const staticSecrets = (values: Readonly<Record<string, string>>): Secrets => ({
  get: async (secretId) => {
    const value = values[secretId];
    if (value === undefined) throw new Error(`no secret "${secretId}"`);
    return value;
  },
});
