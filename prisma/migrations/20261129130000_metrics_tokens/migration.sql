-- CreateTable
CREATE TABLE "MetricsToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "MetricsToken_name_key" ON "MetricsToken"("name");

-- CreateIndex
CREATE UNIQUE INDEX "MetricsToken_tokenHash_key" ON "MetricsToken"("tokenHash");
