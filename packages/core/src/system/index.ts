// The only place where the core touches Node built-ins: defaults of ports that need them.
export { RandomIdGenerator } from './random-id-generator.js';
export { SilentLogger } from './silent-logger.js';
export { SystemClock } from './system-clock.js';
