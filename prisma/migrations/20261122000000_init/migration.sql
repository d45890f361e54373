-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "firstAdmin" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LoginAttempt" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "key" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL
);

-- CreateTable
CREATE TABLE "Service" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "runtime" TEXT NOT NULL,
    "image" TEXT,
    "command" TEXT,
    "dataPort" INTEGER NOT NULL DEFAULT 8000,
    "adminPort" INTEGER NOT NULL DEFAULT 9000,
    "env" TEXT NOT NULL DEFAULT '{}',
    "memoryLimitMb" INTEGER NOT NULL DEFAULT 256,
    "cpuLimit" REAL,
    "replicas" INTEGER NOT NULL DEFAULT 3,
    "minReplicas" INTEGER NOT NULL DEFAULT 0,
    "maxReplicas" INTEGER NOT NULL DEFAULT 20,
    "adminToken" TEXT NOT NULL,
    "rules" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serviceId" TEXT NOT NULL,
    "runtime" TEXT NOT NULL,
    "runtimeRef" TEXT,
    "dataAddr" TEXT,
    "adminAddr" TEXT,
    "state" TEXT NOT NULL,
    "adminState" TEXT NOT NULL DEFAULT 'ready',
    "weight" INTEGER NOT NULL DEFAULT 100,
    "inEngine" BOOLEAN NOT NULL DEFAULT false,
    "health" TEXT NOT NULL DEFAULT 'unknown',
    "healthReason" TEXT,
    "lastError" TEXT,
    "startedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Replica_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Revision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "number" INTEGER NOT NULL,
    "engine" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "rendered" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "engineError" TEXT,
    "summary" TEXT NOT NULL DEFAULT '',
    "author" TEXT NOT NULL,
    "serviceId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Event" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "serviceId" TEXT,
    "replicaId" TEXT,
    "kind" TEXT NOT NULL,
    "level" TEXT NOT NULL DEFAULT 'info',
    "message" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "data" TEXT
);

-- CreateTable
CREATE TABLE "MetricPoint" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "serviceId" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "rps" REAL NOT NULL,
    "errors" REAL NOT NULL,
    "p95Ms" REAL,
    "memoryMb" REAL,
    "healthy" REAL NOT NULL
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE UNIQUE INDEX "User_firstAdmin_key" ON "User"("firstAdmin");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE INDEX "LoginAttempt_key_at_idx" ON "LoginAttempt"("key", "at");

-- CreateIndex
CREATE UNIQUE INDEX "Service_name_key" ON "Service"("name");

-- CreateIndex
CREATE INDEX "Replica_serviceId_idx" ON "Replica"("serviceId");

-- CreateIndex
CREATE UNIQUE INDEX "Revision_number_key" ON "Revision"("number");

-- CreateIndex
CREATE INDEX "Event_serviceId_at_idx" ON "Event"("serviceId", "at");

-- CreateIndex
CREATE INDEX "Event_at_idx" ON "Event"("at");

-- CreateIndex
CREATE INDEX "MetricPoint_serviceId_at_idx" ON "MetricPoint"("serviceId", "at");

-- CreateIndex
CREATE INDEX "MetricPoint_at_idx" ON "MetricPoint"("at");

