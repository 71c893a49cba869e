/** The largest JSON or form body the server parses, in bytes. File uploads are streamed and have their own limit. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

export interface BodyErrorReply {
  status: number;
  code: string;
  message: string;
}

/**
 * Returns the status, a stable code and a plain message for the body errors Fastify raises before a route runs, in
 * place of its own messages ("Request body is too large", "Unsupported Media Type"), or null for any other error.
 * `contentType` is the request's Content-Type header, named in the message when the type is refused.
 */
export function describeBodyError(fastifyCode: string | undefined, contentType: string | undefined): BodyErrorReply | null {
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'body_too_large',
        message: `The request body is larger than ${BODY_LIMIT_BYTES / 1024 / 1024} MB, the limit for JSON and form bodies. Send a smaller body. Files go to the upload endpoint, which takes larger ones.`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const named = contentType === undefined || contentType === '' ? 'The request has no Content-Type, which' : `Content-Type "${contentType.slice(0, 100)}"`;
      return {
        status: 415,
        code: 'unsupported_media_type',
        message: `${named} is not accepted here. Send JSON with Content-Type: application/json, a form as application/x-www-form-urlencoded, or a file upload as multipart/form-data, as /api/openapi.json gives for each operation.`,
      };
    }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON. Check its quotes, commas and brackets, and send it again.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'empty_json_body', message: 'The request body is empty but its Content-Type is application/json. Send a JSON body, or leave out the Content-Type header.' };
    default:
      return null;
  }
}
