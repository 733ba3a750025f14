export * from './projection-fixtures';
export * from './projector-suite';
