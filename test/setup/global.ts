// Global test setup: nothing yet; the Kafka broker hook is added with the test infrastructure.
export default function setup(): void {}
