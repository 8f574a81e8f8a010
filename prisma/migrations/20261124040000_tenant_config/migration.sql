-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "policy_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "sinks_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "tenant_keys" (
    "tenant_id" UUID NOT NULL,
    "hmac_key_ciphertext" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotated_at" TIMESTAMPTZ(3),

    CONSTRAINT "tenant_keys_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateIndex
CREATE INDEX "tenants_policy_changed_at_idx" ON "tenants"("policy_changed_at");

-- CreateIndex
CREATE INDEX "tenants_sinks_changed_at_idx" ON "tenants"("sinks_changed_at");

-- AddForeignKey
ALTER TABLE "tenant_keys" ADD CONSTRAINT "tenant_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Handwritten (not expressible in the Prisma schema) -------------------------------------

-- Change stamps the workers poll (issue #5 item 1: "reloaded within 5 s of a change"). The
-- database sets them, so every writer (admin API, scripts, psql) is seen, not only the
-- repositories. A poll is one indexed range scan on tenants: `policy_changed_at > $since`.

-- A new active policy version.
CREATE FUNCTION custodian_tenant_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.active_policy_id IS DISTINCT FROM OLD.active_policy_id THEN
    NEW.policy_changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER tenants_policy_changed
  BEFORE UPDATE OF active_policy_id ON "tenants"
  FOR EACH ROW EXECUTE FUNCTION custodian_tenant_policy_changed();

-- A new, rotated or erased HMAC key changes what the compiled policy hashes to.
CREATE FUNCTION custodian_tenant_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "tenants" SET "policy_changed_at" = clock_timestamp()
    WHERE "id" = COALESCE(NEW.tenant_id, OLD.tenant_id);
  RETURN NULL;
END;
$$;
CREATE TRIGGER tenant_keys_changed
  AFTER INSERT OR UPDATE OR DELETE ON "tenant_keys"
  FOR EACH ROW EXECUTE FUNCTION custodian_tenant_key_changed();

-- Any change to a tenant's sinks (including a delete, which leaves no row to poll for).
CREATE FUNCTION custodian_tenant_sinks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "tenants" SET "sinks_changed_at" = clock_timestamp()
    WHERE "id" = COALESCE(NEW.tenant_id, OLD.tenant_id);
  IF TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
    UPDATE "tenants" SET "sinks_changed_at" = clock_timestamp() WHERE "id" = OLD.tenant_id;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER sinks_changed
  AFTER INSERT OR UPDATE OR DELETE ON "sinks"
  FOR EACH ROW EXECUTE FUNCTION custodian_tenant_sinks_changed();
