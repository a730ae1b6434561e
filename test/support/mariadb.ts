// The harness moved to packages/sandbox; import from '@pullover/sandbox'.
export * from '@pullover/sandbox';
