-- CreateTable
CREATE TABLE "audit_streams" (
    "tenant_id" UUID NOT NULL,
    "sink_id" UUID NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "last_seq" BIGINT NOT NULL DEFAULT 0,
    "last_delivered_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "audit_streams_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateIndex
CREATE INDEX "audit_streams_sink_id_idx" ON "audit_streams"("sink_id");

-- AddForeignKey
ALTER TABLE "audit_streams" ADD CONSTRAINT "audit_streams_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_streams" ADD CONSTRAINT "audit_streams_sink_id_fkey" FOREIGN KEY ("sink_id") REFERENCES "sinks"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- A tenant's audit events may only stream to that tenant's own sink.
CREATE FUNCTION audit_streams_same_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM sinks WHERE id = NEW.sink_id AND tenant_id = NEW.tenant_id) THEN
    RAISE EXCEPTION 'audit stream of tenant % may not use sink % (not one of its sinks)', NEW.tenant_id, NEW.sink_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_streams_same_tenant
  BEFORE INSERT OR UPDATE OF tenant_id, sink_id ON "audit_streams"
  FOR EACH ROW EXECUTE FUNCTION audit_streams_same_tenant();
