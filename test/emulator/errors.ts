/**
 * The error a service handler of the emulator throws; the server encodes it in the service's
 * own protocol (restJson1 `x-amzn-ErrorType`, awsJson `__type`, awsQuery `<ErrorResponse>`,
 * restXml `<Error>`), so the SDK raises the exception class named by `code`.
 */
export class AwsError extends Error {
  /**
   * @param code the error shape name (`InvalidInputException`, `ThrottlingException`, …) or,
   *   for awsQuery / restXml, the error code (`ValidationError`, `NoSuchKey`).
   * @param message human-readable message (the `message` member).
   * @param status HTTP status; when omitted the model's `smithy.api#httpError` of the shape,
   *   else 400.
   * @param fault `Sender` (client) or `Receiver` (server) for awsQuery.
   */
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly fault: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = code;
  }
}
