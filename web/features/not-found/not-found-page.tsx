import { Link } from 'wouter';

export default function NotFoundPage() {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        There is no dashboard page here. <Link href="/">Go to the overview</Link>.
      </p>
    </div>
  );
}
