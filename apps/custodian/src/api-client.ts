/**
 * The CLI's GraphQL client: every command except `bootstrap` (and the database-level `tenant`,
 * `apikey`, `demo`) goes through the admin API, so RBAC and audit apply to the CLI exactly as
 * to the console. The session from `custodian login` lives in a 0600 file
 * (CUSTODIAN_SESSION_FILE, default ~/.config/custodian/session.json) and is refreshed
 * automatically; CUSTODIAN_TOKEN (e.g. a `cust_svc_…` service token) overrides it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Session {
  url: string;
  email: string;
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sessionFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.CUSTODIAN_SESSION_FILE ?? join(homedir(), '.config', 'custodian', 'session.json');
}

export function saveSession(s: Session, file = sessionFile()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function loadSession(file = sessionFile()): Session | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Session;
}

interface GqlResponse<T> {
  data?: T | null;
  errors?: {
    message: string;
    extensions?: {
      code?: string;
      problems?: string[];
      /** Structured problems (policy validation): each with its path. */
      errors?: { path: string; message: string }[];
    };
  }[];
}

export async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let body: GqlResponse<T>;
  try {
    body = (await res.json()) as GqlResponse<T>;
  } catch {
    throw new ApiError(`${url} answered HTTP ${res.status} without a GraphQL response`);
  }
  if (body.errors?.length) {
    const e = body.errors[0];
    const lines = [
      ...(e.extensions?.problems ?? []),
      ...(e.extensions?.errors ?? []).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)),
    ];
    const problems = lines.length ? `\n  - ${lines.join('\n  - ')}` : '';
    throw new ApiError(`${e.message}${problems}`, e.extensions?.code);
  }
  return body.data as T;
}

const SESSION_FIELDS = 'accessToken accessTokenExpiresAt refreshToken user { email }';

export async function login(url: string, email: string, password: string): Promise<Session> {
  const data = await graphql<{
    login: {
      accessToken: string;
      accessTokenExpiresAt: string;
      refreshToken: string;
      user: { email: string };
    };
  }>(
    url,
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${SESSION_FIELDS} } }`,
    {
      e: email,
      p: password,
    },
  );
  return { url, email: data.login.user.email, ...pick(data.login) };
}

function pick(s: { accessToken: string; accessTokenExpiresAt: string; refreshToken: string }) {
  return {
    accessToken: s.accessToken,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshToken: s.refreshToken,
  };
}

/** An authenticated caller: CUSTODIAN_TOKEN, else the saved session (refreshed when due). */
export class ApiClient {
  private constructor(
    readonly url: string,
    private token: string,
    private session: Session | null,
    private readonly file: string,
  ) {}

  static fromEnvironment(env: NodeJS.ProcessEnv = process.env, urlFlag?: string): ApiClient {
    const file = sessionFile(env);
    if (env.CUSTODIAN_TOKEN) {
      const url = urlFlag ?? env.CUSTODIAN_API_URL ?? 'http://127.0.0.1:4000/graphql';
      return new ApiClient(url, env.CUSTODIAN_TOKEN, null, file);
    }
    const s = loadSession(file);
    if (!s) throw new ApiError('not signed in: run `custodian login --url <url> --email <email>`');
    return new ApiClient(urlFlag ?? s.url, s.accessToken, s, file);
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    if (this.session && Date.parse(this.session.accessTokenExpiresAt) - Date.now() < 30_000) {
      await this.refresh();
    }
    try {
      return await graphql<T>(this.url, query, variables, this.token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'UNAUTHENTICATED' || !this.session) throw err;
      await this.refresh();
      return graphql<T>(this.url, query, variables, this.token);
    }
  }

  private async refresh(): Promise<void> {
    const s = this.session!;
    const data = await graphql<{
      refresh: { accessToken: string; accessTokenExpiresAt: string; refreshToken: string };
    }>(this.url, `mutation($t: String!) { refresh(refreshToken: $t) { ${SESSION_FIELDS} } }`, {
      t: s.refreshToken,
    }).catch((err: unknown) => {
      throw new ApiError(
        `session expired (${err instanceof Error ? err.message : String(err)}): run \`custodian login\` again`,
      );
    });
    this.session = { ...s, ...pick(data.refresh) };
    this.token = this.session.accessToken;
    saveSession(this.session, this.file);
  }
}
