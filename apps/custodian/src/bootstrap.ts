/**
 * `custodian bootstrap`: the first platform admin, written straight to the database (the API
 * cannot be used before anyone can sign in). Refuses when a platform admin exists, so it cannot
 * be used to mint a second one behind the API's back; the event is audited in the platform
 * chain like any other.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { hashPassword, passwordProblems } from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import { createPrismaClient } from '@custodian/db';

const USAGE = 'usage: custodian bootstrap --email <email> [--password-file <path>]';

export async function runBootstrap(args: string[], config: CustodianConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, 'password-file': { type: 'string' } },
  });
  const email = values.email?.trim().toLowerCase();
  if (!email || !/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(email)) {
    process.stderr.write(`${USAGE}\n--email: expected an email address\n`);
    return 2;
  }
  let password: string;
  let generated = false;
  if (values['password-file']) {
    password = readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '');
    const problems = passwordProblems(password);
    if (problems.length > 0) {
      process.stderr.write(`custodian bootstrap: ${problems.join('; ')}\n`);
      return 2;
    }
  } else {
    password = randomBytes(18).toString('base64url');
    generated = true;
  }
  const passwordHash = await hashPassword(password);

  // Loaded here, not at the top: `custodian start --target=gateway` must not load admin code.
  const { appendAuditEvent } = await import('@custodian/admin');
  const db = createPrismaClient(config.databaseUrl, 2);
  try {
    const result = await db.$transaction(async (tx) => {
      // One bootstrap at a time: two racing ones must not both see "no admin yet".
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('custodian-bootstrap', 0))`;
      const existing = await tx.user.findFirst({ where: { isPlatformAdmin: true } });
      if (existing) return { refused: existing.email };
      if (await tx.user.findUnique({ where: { email } })) return { taken: email };
      const user = await tx.user.create({
        data: { email, passwordHash, isPlatformAdmin: true, displayName: 'Platform admin' },
      });
      await appendAuditEvent(tx, {
        tenantId: null,
        actorType: 'system',
        actorId: null,
        action: 'user.bootstrap',
        targetType: 'User',
        targetId: user.id,
        fields: [],
        reason: 'custodian bootstrap',
        ip: null,
        userAgent: null,
        requestId: null,
        outcome: 'success',
        details: { email },
        occurredAt: new Date(),
      });
      return { created: user };
    });
    if ('refused' in result) {
      process.stderr.write(
        `custodian bootstrap: refused: a platform admin already exists (${result.refused}); sign in as them and use the API\n`,
      );
      return 1;
    }
    if ('taken' in result) {
      process.stderr.write(
        `custodian bootstrap: a user with email ${result.taken} already exists\n`,
      );
      return 1;
    }
    process.stdout.write(
      `created platform admin ${email} (user id ${result.created.id}); audited as user.bootstrap\n`,
    );
    if (generated) {
      process.stdout.write(`password: ${password}\n`);
      process.stderr.write('This password is shown once; store it now or sign in and change it.\n');
    }
    return 0;
  } finally {
    await db.$disconnect();
  }
}
