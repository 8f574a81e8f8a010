/**
 * Is `s` a UUID in its text form (any version, either case)? Tenant, user, sink and policy ids
 * are PostgreSQL uuid columns: a query with anything else fails with "invalid input syntax for
 * type uuid" (a 500, or in the worker a failure that reads as transient), so ids from requests
 * and record headers are checked with this first and answered as "not found" / "unknown".
 */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
