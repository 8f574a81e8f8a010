// Cross-process suites wait on real services (consumer group joins, process start-up);
// a per-project testTimeout is not honoured by Jest, so it is set here.
jest.setTimeout(60_000);
