export function Cover({ url, title, size = 200 }: { url?: string | null; title: string; size?: number }) {
  if (!url) {
    return (
      <div className="cover placeholder" aria-hidden="true">
        {title.slice(0, 1).toUpperCase()}
      </div>
    );
  }
  const src = `${url}${url.includes("?") ? "&" : "?"}size=${size}`;
  return <img className="cover" src={src} alt="" loading="lazy" width={size} height={size} />;
}
