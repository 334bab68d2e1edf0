import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export class PolicyTextDto {
  /** The document text (YAML or JSON). */
  @IsString()
  @MaxLength(512 * 1024)
  document!: string;

  @IsOptional()
  @IsIn(['yaml', 'json'])
  format?: 'yaml' | 'json';
}

export class ApplyPolicyDto extends PolicyTextDto {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  appliedBy?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}

export class PolicyVersionDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

export class DiffPoliciesDto {
  @IsInt()
  @Min(1)
  from!: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  to?: number;
}

export class RollbackPolicyDto {
  @IsInt()
  @Min(1)
  version!: number;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  appliedBy?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}
