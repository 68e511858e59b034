import registryJson from '../../config/tenants.json' with { type: 'json' };
import { ConfigError } from '../config';
import { TenantRegistry, type Tenants, tenantsFrom } from '../domain/tenant/tenant';

/**
 * The tenant registry is versioned config, bundled into each function: a finance team changes a
 * ladder or a column mapping by a reviewed commit and a deploy, and every decision records the
 * policy version it used.
 */
export const validateTenantRegistry = (raw: unknown, source = 'config/tenants.json'): TenantRegistry => {
  const result = TenantRegistry.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`${source} is invalid: ${problems}`);
  }
  return result.data;
};

export const parseTenantRegistry = (raw: unknown, source = 'config/tenants.json'): Tenants =>
  tenantsFrom(validateTenantRegistry(raw, source));

/**
 * The name that a Lambda bundle defines (esbuild `define`, infra/constructs/lambda-bundle.ts) as a
 * string literal: the registry in JSON, as {@link validateTenantRegistry} returned it when the
 * bundle was built (defaults filled in).
 */
export const BUNDLED_TENANTS_DEFINE = 'ARREARS_TENANT_REGISTRY_JSON';
declare const ARREARS_TENANT_REGISTRY_JSON: string | undefined;

/**
 * The bundled registry. A Lambda bundle carries it validated when the bundle was built, so an
 * invalid registry fails `cdk synth` instead of every cold start, and the schema does not run
 * again at each one: there it cost ~3.5 ms of cold zod code re-checking constant data, while
 * JSON.parse reads the result in microseconds. The `typeof` test is a constant in a bundle, so
 * esbuild drops the other branch and the raw JSON with it. Without the define (tests, the local
 * runtime) the JSON is validated here.
 */
export const loadBundledTenants = (): Tenants =>
  typeof ARREARS_TENANT_REGISTRY_JSON === 'string'
    ? tenantsFrom(JSON.parse(ARREARS_TENANT_REGISTRY_JSON) as TenantRegistry)
    : parseTenantRegistry(registryJson);
