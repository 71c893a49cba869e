import QRCode from 'qrcode';

/**
 * Draws an otpauth set-up link as an inline SVG QR code, so a phone's authenticator app can scan it from the page
 * with no JavaScript and no image request. The SVG is an image named by its title; the page also shows the secret
 * key as text for anyone who cannot scan.
 */
export async function totpQrCode(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return svg.replace('<svg ', '<svg class="civic-qr-code" role="img" aria-labelledby="totp-qr-title" ').replace(/(<svg[^>]*>)/, '$1<title id="totp-qr-title">QR code of the set-up link for your authenticator app</title>');
}
