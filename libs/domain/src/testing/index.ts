export * from './fixtures';
export * from './given-when-then';
