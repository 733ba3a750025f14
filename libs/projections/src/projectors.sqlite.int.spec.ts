import { describeProjectors } from './testing/projector-suite';

// The same given-when-then suite runs on PostgreSQL in projectors.postgres.int.spec.ts.
describeProjectors('sqlite');
