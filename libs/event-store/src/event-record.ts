/** The wire types of the log are contracts (libs/contracts); the store speaks them. */
export type {
  AppendOutcome,
  AppendRequest,
  CommittedEvent,
  EventMetadata,
  ExpectedVersion,
  JsonValue,
  LogHead,
  NewEvent,
  RecordedEvent,
  StreamAppend,
  StreamCondition,
} from '#contracts';
