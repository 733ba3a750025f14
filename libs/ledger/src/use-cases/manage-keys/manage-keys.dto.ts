import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { Role, ROLES, USER_ID_PATTERN } from '@credit-ledger/domain';

export class CreateKeyDto {
  @ApiProperty({ enum: ROLES, description: 'member (one user’s usage), analyst (read-only), service (write commands), admin (superuser only)' })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ description: 'member keys only, and required for them: the team member the key speaks for', example: 'ana@acme.test' })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN)
  @Transform(({ value }) => (typeof value === 'string' ? value.normalize('NFC') : value))
  userId?: string;
}
