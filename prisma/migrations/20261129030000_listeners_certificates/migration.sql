-- Listeners and certificates (issue 13): the balancer's ports, each http or https, and
-- the public facts of TLS certificates (their chains and keys are files in DATA_DIR/tls).
CREATE TABLE "Listener" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "protocol" TEXT NOT NULL DEFAULT 'http',
    "certificateId" TEXT,
    "sniCertificateIds" TEXT NOT NULL DEFAULT '[]',
    "redirectToHttps" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "Listener_name_key" ON "Listener"("name");
CREATE UNIQUE INDEX "Listener_port_key" ON "Listener"("port");

CREATE TABLE "Certificate" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subject" TEXT NOT NULL,
    "names" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "notBefore" DATETIME NOT NULL,
    "notAfter" DATETIME NOT NULL,
    "generated" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
