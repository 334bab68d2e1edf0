import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { AGENT_ID_PATTERN } from '#contracts';

export class AuditFilterDto {
  @IsOptional()
  @IsString()
  @Matches(AGENT_ID_PATTERN)
  agentId?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  after?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  toPosition?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  types?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(64)
  syscall?: string;

  @IsOptional()
  @IsIn(['allowed', 'denied', 'shadow', 'failed'])
  decision?: 'allowed' | 'denied' | 'shadow' | 'failed';

  @IsOptional()
  @IsString()
  @MaxLength(200)
  rule?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  policyVersion?: number;
}

export class AuditQueryDto extends AuditFilterDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}
