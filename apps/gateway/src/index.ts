export { GatewayModule, GATEWAY_ROLE } from './gateway.module';
