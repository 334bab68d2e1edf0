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
  ValidateBy,
} from 'class-validator';
import { AGENT_ID_PATTERN } from '#contracts';
import { AUDIT_CURSOR_PATTERN } from '#event-store';

/**
 * A position (an integer of at least `min`) or, for logs of several partitions, a cursor
 * `0:12,1:40,...` (per partition, a position); which partitions exist is checked by the query.
 */
function IsPositionOrCursor(min: number): PropertyDecorator {
  return ValidateBy({
    name: 'isPositionOrCursor',
    validator: {
      validate: (v: unknown) =>
        (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) ||
        (typeof v === 'string' && v.length <= 6000 && AUDIT_CURSOR_PATTERN.test(v)),
      defaultMessage: (a) => `${a?.property} must be a position (an integer >= ${min}) or a cursor like 0:12,1:40`,
    },
  });
}

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

  /** Positions after this: a position, or with several partitions a cursor (`next` of a page). */
  @IsOptional()
  @IsPositionOrCursor(0)
  after?: number | string;

  /** Positions up to this one: a position (in every partition), or a cursor of per-partition bounds. */
  @IsOptional()
  @IsPositionOrCursor(1)
  toPosition?: number | string;

  /** Only this partition (its positions; `next` a position). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(255)
  partition?: number;

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
