import { route } from "@/lib/http";

export const GET = route("viewer", async ({ user }) => ({ user: { id: user.id, username: user.username, role: user.role } }));
