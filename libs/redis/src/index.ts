export { RedisModule, RedisConnection } from './redis.module';
