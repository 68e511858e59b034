import registryJson from '../../config/tenants.json' with { type: 'json' };
import { ConfigError } from '../config';
import { TenantRegistry, type Tenants, tenantsFrom } from '../domain/tenant/tenant';

/**
 * The tenant registry is versioned config, bundled into each function: a finance team changes a
 * ladder or a column mapping by a reviewed commit and a deploy, and every decision records the
 * policy version it used.
 */
export const parseTenantRegistry = (raw: unknown, source = 'config/tenants.json'): Tenants => {
  const result = TenantRegistry.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`${source} is invalid: ${problems}`);
  }
  return tenantsFrom(result.data);
};

export const loadBundledTenants = (): Tenants => parseTenantRegistry(registryJson);
