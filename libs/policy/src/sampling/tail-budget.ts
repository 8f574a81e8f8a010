/**
 * TailBufferBudget: one byte budget shared by every TailSampler of a process — all partitions,
 * all tenants (issue #5: "memory is bounded (globally and per tenant), and under overload
 * traces are decided early (and counted) instead of the buffers growing").
 *
 * A policy's `max_buffered_bytes` bounds one sampler, i.e. one tenant on one partition; a
 * worker owning 12 partitions for 200 tenants could still hold 2,400 of those. The budget adds
 * the two bounds that keep the PROCESS within its memory:
 * - per tenant: a tenant's samplers together hold at most `tenantMaxBytes` (a share of the
 *   global budget), or the tenant policy's own `max_buffered_bytes` when that is smaller;
 * - global: all samplers together hold at most `maxBytes`. Past it the LARGEST tenant's oldest
 *   traces are decided first, so one tenant's spike is paid for by that tenant and does not
 *   evict the traces of the others.
 * A trace leaving this way is decided on what has arrived (cause `budget`, as the per-sampler
 * bound) and counted here per tenant and per bound; nothing is dropped.
 *
 * Samplers of other partitions are told through their member's `onEvicted` listener
 * (synchronously: the caller routes and releases offsets for them), the calling sampler's own
 * evictions come back from its `add`. Pure and synchronous: no timers, no I/O.
 */
import type { DecidedTrace } from './tail-sampler';

/** Which bound made a trace leave early. */
export type BudgetBound = 'tenant' | 'global';

export interface TailBufferBudgetOptions {
  /** Estimated bytes all samplers of the process may buffer together (> 0). */
  maxBytes: number;
  /**
   * Estimated bytes one tenant's samplers may buffer together; default half of maxBytes.
   * A tenant policy's smaller `max_buffered_bytes` wins for that tenant.
   */
  tenantMaxBytes?: number;
}

/** Early decisions taken by the budget for one tenant. */
export interface BudgetEvictions {
  /** Traces decided because the tenant passed its own cap. */
  tenant: number;
  /** Traces decided because the process passed the global budget (this tenant was largest). */
  global: number;
  /** Spans those traces held. */
  spans: number;
}

interface TenantEntry {
  bytes: number;
  cap: number;
  members: Set<BudgetMember>;
  evictions: BudgetEvictions;
}

/** How a budget evicts from a sampler; implemented by TailSampler. */
export interface BudgetedSampler {
  /** firstSeen of the oldest buffered trace, or undefined when empty. */
  oldestFirstSeen(): number | undefined;
  /** Decides the oldest buffered trace now (cause `budget`) into `out`; false when empty. */
  decideOldestForBudget(out: DecidedTrace[]): boolean;
}

/** One sampler's seat at the budget. */
export class BudgetMember {
  /** Bytes this sampler holds, as charged. */
  bytes = 0;
  /** Evictions taken from this sampler while another one was adding, not yet handed over. */
  pendingOut: DecidedTrace[] | undefined;

  constructor(
    private readonly budget: TailBufferBudget,
    readonly tenantId: string,
    readonly sampler: BudgetedSampler,
    readonly onEvicted: (decided: DecidedTrace[]) => void,
  ) {}

  /** False once the sampler left: it no longer counts, nor is it chosen. */
  seated = true;

  /** Adds bytes the sampler now buffers (negative: released). */
  charge(delta: number): void {
    if (!this.seated) return;
    this.bytes += delta;
    this.budget.charge(this.tenantId, delta);
  }

  /** After an add: decide early until this tenant and the process are within their bounds. */
  enforce(out: DecidedTrace[]): void {
    if (this.seated) this.budget.enforce(this, out);
  }

  /** Leaves the budget (sampler discarded: policy change, partition revoked); frees its bytes. */
  leave(): void {
    this.budget.leave(this);
  }
}

export class TailBufferBudget {
  readonly maxBytes: number;
  readonly tenantMaxBytes: number;
  private total = 0;
  private readonly tenants = new Map<string, TenantEntry>();

  constructor(opts: TailBufferBudgetOptions) {
    if (!(opts.maxBytes > 0)) throw new RangeError('maxBytes must be > 0');
    this.maxBytes = opts.maxBytes;
    this.tenantMaxBytes = Math.min(
      opts.tenantMaxBytes ?? Math.floor(opts.maxBytes / 2),
      opts.maxBytes,
    );
  }

  /**
   * Seats a sampler of `tenantId`. `policyMaxBytes` (the policy's max_buffered_bytes) lowers
   * this tenant's cap; `onEvicted` receives traces the budget decides in this sampler while
   * another sampler is adding.
   */
  join(
    tenantId: string,
    sampler: BudgetedSampler,
    onEvicted: (decided: DecidedTrace[]) => void,
    policyMaxBytes?: number,
  ): BudgetMember {
    let t = this.tenants.get(tenantId);
    if (!t) {
      t = {
        bytes: 0,
        cap: this.tenantMaxBytes,
        members: new Set(),
        evictions: { tenant: 0, global: 0, spans: 0 },
      };
      this.tenants.set(tenantId, t);
    }
    t.cap = Math.min(this.tenantMaxBytes, policyMaxBytes ?? Infinity);
    const m = new BudgetMember(this, tenantId, sampler, onEvicted);
    t.members.add(m);
    return m;
  }

  /** Estimated bytes buffered by every sampler of the process. */
  get bytes(): number {
    return this.total;
  }

  /** Bytes buffered per tenant (tenants holding nothing are left out). */
  tenantBytes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, t] of this.tenants) if (t.bytes > 0) out.set(id, t.bytes);
    return out;
  }

  /** The cap that applies to a tenant now. */
  tenantCap(tenantId: string): number {
    return this.tenants.get(tenantId)?.cap ?? this.tenantMaxBytes;
  }

  /** Early decisions the budget took, per tenant (cumulative). */
  evictions(): Map<string, BudgetEvictions> {
    const out = new Map<string, BudgetEvictions>();
    for (const [id, t] of this.tenants) out.set(id, { ...t.evictions });
    return out;
  }

  /** @internal */
  charge(tenantId: string, delta: number): void {
    const t = this.tenants.get(tenantId);
    if (t) t.bytes += delta;
    this.total += delta;
  }

  /** @internal */
  leave(m: BudgetMember): void {
    const t = this.tenants.get(m.tenantId);
    m.seated = false;
    if (!t || !t.members.delete(m)) return;
    t.bytes -= m.bytes;
    this.total -= m.bytes;
    m.bytes = 0;
    // Keep the entry while it carries eviction counts (metrics are cumulative).
    if (t.members.size === 0 && t.evictions.tenant + t.evictions.global === 0)
      this.tenants.delete(m.tenantId);
  }

  /** @internal */
  enforce(caller: BudgetMember, out: DecidedTrace[]): void {
    const own = this.tenants.get(caller.tenantId);
    const touched = new Set<BudgetMember>();
    if (own) {
      while (own.bytes > own.cap) {
        if (!this.evictOldest(own, 'tenant', caller, out, touched)) break;
      }
    }
    while (this.total > this.maxBytes) {
      const victim = this.largest();
      if (!victim || !this.evictOldest(victim, 'global', caller, out, touched)) break;
    }
    for (const m of touched) {
      const decided = m.pendingOut;
      m.pendingOut = undefined;
      if (decided && decided.length > 0) m.onEvicted(decided);
    }
  }

  private largest(): TenantEntry | undefined {
    let best: TenantEntry | undefined;
    for (const t of this.tenants.values())
      if (t.bytes > 0 && (!best || t.bytes > best.bytes)) best = t;
    return best;
  }

  /** Decides the tenant's oldest trace, over all its samplers. */
  private evictOldest(
    t: TenantEntry,
    bound: BudgetBound,
    caller: BudgetMember,
    out: DecidedTrace[],
    touched: Set<BudgetMember>,
  ): boolean {
    let pick: BudgetMember | undefined;
    let oldest = Infinity;
    for (const m of t.members) {
      const first = m.sampler.oldestFirstSeen();
      if (first !== undefined && first < oldest) {
        oldest = first;
        pick = m;
      }
    }
    if (!pick) return false;
    let into = out;
    if (pick !== caller) {
      pick.pendingOut ??= [];
      into = pick.pendingOut;
      touched.add(pick);
    }
    const before = into.length;
    if (!pick.sampler.decideOldestForBudget(into)) return false;
    t.evictions[bound]++;
    for (let i = before; i < into.length; i++) t.evictions.spans += into[i].spanCount;
    return true;
  }
}

/** A sampler's seat request: the budget, the tenant, and where others' evictions go. */
export interface TailBudgetSeat {
  budget: TailBufferBudget;
  tenantId: string;
  /** Traces of this sampler decided early while another sampler was adding. */
  onEvicted: (decided: DecidedTrace[]) => void;
}
