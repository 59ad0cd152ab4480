/**
 * Where the bytes of a media URL come from: the network (through the SSRF guard) or, for files
 * uploaded to this server, the blob store. Both stop at `maxBytes` and leave no partial file.
 */
export interface MediaSource {
  /**
   * Copies the media at `url` to `file`. Throws a DownloadError (network trouble, refused address,
   * over `maxBytes`) or an ApiError with its own reason (an upload URL that expired).
   */
  download(url: string, file: string, limits: { maxBytes: number; signal?: AbortSignal }): Promise<FetchedMedia>;
}

/** What arrived. */
export interface FetchedMedia {
  bytes: number;
  /** True when the file came from this server's own uploads rather than over the network. */
  ownUpload?: boolean;
}
