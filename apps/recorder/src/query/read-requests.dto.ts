import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class ReadStreamDto {
  @IsString()
  @MaxLength(200)
  streamId!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  fromVersion?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  toVersion?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}

/** A partition of the log (0, the home partition, when absent). */
class PartitionDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(255)
  partition?: number;
}

export class ReadAllDto extends PartitionDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  after?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  toPosition?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/, { each: true })
  types?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(200)
  streamPrefix?: string;
}

export class HeadDto extends PartitionDto {}

export class VerifyDto extends PartitionDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  from?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  to?: number;
}
