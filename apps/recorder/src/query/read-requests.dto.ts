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

export class ReadAllDto {
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

export class VerifyDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  from?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  to?: number;
}
