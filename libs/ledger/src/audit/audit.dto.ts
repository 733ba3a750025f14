import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Satisfies } from '@credit-ledger/http';

/** Revisions are at most this (the largest safe integer). */
export const MAX_AUDIT_REVISION = Number.MAX_SAFE_INTEGER;

export class AuditExportParams {
  @ApiPropertyOptional({ description: 'First revision exported (inclusive); default 0', minimum: 0, example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_AUDIT_REVISION)
  fromRevision?: number;

  @ApiPropertyOptional({ description: 'Last revision exported (inclusive); default: the account’s last event', minimum: 0, example: 99 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_AUDIT_REVISION)
  @Satisfies((value, object) => object.fromRevision === undefined || (value as number) >= (object.fromRevision as number), 'must be at least fromRevision')
  toRevision?: number;
}

export class SignedHeadDto {
  @ApiProperty({ enum: ['account', 'global'], description: 'An account’s chain, or the global log’s (the checkpoint)' })
  scope!: 'account' | 'global';
  @ApiProperty({ type: String, nullable: true, description: 'The account (null for the checkpoint)', example: 'acme' })
  accountId!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The account’s last revision (null for the checkpoint)', example: 41 })
  revision!: number | null;
  @ApiProperty({ description: 'Global position of the last event', example: 1234 })
  position!: number;
  @ApiProperty({ description: 'SHA-256 of the last event (lowercase hex), see docs/audit.md', example: 'a3f1…' })
  hash!: string;
  @ApiProperty({ type: String, nullable: true, description: 'When it was signed (null while signing is off)' })
  signedAt!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Ed25519 signature (base64) over the canonical JSON of the other fields; null while signing is off',
  })
  signature!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The signing key, as listed by GET /v1/audit/keys', example: 'ed25519:1f2e3d4c5b6a7988' })
  keyId!: string | null;
}

export class AuditPublicKeyDto {
  @ApiProperty({ example: 'ed25519:1f2e3d4c5b6a7988' })
  keyId!: string;
  @ApiProperty({ enum: ['Ed25519'] })
  algorithm!: 'Ed25519';
  @ApiProperty({ description: 'SPKI PEM' })
  publicKey!: string;
  @ApiProperty({ type: String, nullable: true, description: 'From when it signs (null: not recorded)' })
  validFrom!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Until when it signed (null: the current key)' })
  validUntil!: string | null;
  @ApiProperty()
  current!: boolean;
}

export class AuditKeysDto {
  @ApiProperty({ description: 'Signing is on (LEDGER_AUDIT_SIGNING_KEY set)' })
  signing!: boolean;
  @ApiProperty({ type: [AuditPublicKeyDto], description: 'The current key first, then retired keys, newest first' })
  keys!: AuditPublicKeyDto[];
}
