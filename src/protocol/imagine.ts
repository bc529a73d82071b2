// The Image object of the imagine endpoint (POST /v1/images/imagine), as its documentation gives
// it: shared by the server that builds it and the client that reads it.

/** An image of the imagine endpoint. Keys are in the documented order. */
export interface ImageObject {
  /** `image_...`. */
  id: string;
  /** Not unique: the name the image was made with. */
  name: string;
  /** The public URL once published, else null. */
  url: string | null;
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
  /** Bytes. */
  size: number;
  /** ISO 8601. */
  created_at: string;
}
