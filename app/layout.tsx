import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Switchyard", template: "%s · Switchyard" },
  description: "Control panel for load-balanced services",
  // public/icon.svg (public/ is served as it is, without a session, like public/robots.txt)
  icons: { icon: { url: "/icon.svg", type: "image/svg+xml" } },
  // a private control panel: public/robots.txt disallows everything, and every page says noindex
  robots: { index: false, follow: false },
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">{children}</body>
    </html>
  );
}
