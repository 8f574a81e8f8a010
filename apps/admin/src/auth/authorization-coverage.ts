/**
 * Which root fields (queries, mutations, subscriptions) of the running app declare @Authorize
 * or @Public, read from the same metadata the guard reads. The coverage test compares this with
 * the built GraphQLSchema, so a resolver added by any module without a decorator is caught in
 * CI as well as refused at runtime.
 */
import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
// @nestjs/graphql's metadata keys (graphql.constants; not exported from its index).
const RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const RESOLVER_NAME_METADATA = 'graphql:resolver_name';
import {
  AUTHORIZE_METADATA,
  PUBLIC_METADATA,
  type AuthorizeRequirement,
} from './authorize.decorator';

export interface RootFieldCoverage {
  /** 'Query' | 'Mutation' | 'Subscription' */
  type: string;
  field: string;
  resolver: string;
  method: string;
  authorize: AuthorizeRequirement | null;
  public: boolean;
}

@Injectable()
export class AuthorizationCoverage {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  report(): RootFieldCoverage[] {
    const out: RootFieldCoverage[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const type = Reflect.getMetadata(RESOLVER_TYPE_METADATA, fn) as string | undefined;
        if (type !== 'Query' && type !== 'Mutation' && type !== 'Subscription') continue;
        const name =
          (Reflect.getMetadata(RESOLVER_NAME_METADATA, fn) as string | undefined) ?? method;
        out.push({
          type,
          field: name,
          resolver: wrapper.name?.toString() ?? proto.constructor.name,
          method,
          authorize:
            (Reflect.getMetadata(AUTHORIZE_METADATA, fn) as AuthorizeRequirement | undefined) ??
            null,
          public: Reflect.getMetadata(PUBLIC_METADATA, fn) === true,
        });
      }
    }
    return out;
  }
}
